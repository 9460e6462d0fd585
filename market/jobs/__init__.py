"""Background jobs: rq queues, the @job decorator and the transactional outbox."""
from market.jobs.core import (QUEUES, enqueue_after_commit, enqueue_named_after_commit,  # noqa: F401
                              job, redis_connection)
