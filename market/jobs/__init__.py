"""Background jobs: rq queues, the @job decorator and the transactional outbox."""
from market.jobs.core import QUEUES, enqueue_after_commit, job, redis_connection  # noqa: F401
