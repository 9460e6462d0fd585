"""operator track records as running totals kept by triggers

Matching reads every candidate operator's track record with each request; aggregating its reviews
and manifests per candidate cost more than the rest of the ranking statement together
(bench/matching.py --dense). One row per operator, kept by the database on every change to
order_review and manifest, replaces those aggregates and the partial index that served them.

The statuses and the grace are reviews.policies' SHIPPED_STATUSES and ON_TIME_GRACE;
tests/services/test_track_record.py holds them equal.

Revision ID: 0024_track_records
Revises: 0020_synonyms
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_track_records'
down_revision = '0020_synonyms'
branch_labels = None
depends_on = None

# A generator's review counts towards its subject operator; a manifest towards its receiver once
# shipped (and on time if shipped within the grace after the planned pickup). An UPDATE takes the
# old row's share away and adds the new row's, so status changes, corrections and deletions all
# keep the totals exact; an update that changes no share touches nothing (and locks nothing).
FUNCTIONS = """
CREATE FUNCTION track_record_add(p_org integer, p_reviews integer, p_on_time bigint,
                                 p_as_agreed bigint, p_communication bigint, p_shipped integer,
                                 p_on_time_manifests integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- UPDATE first: a removal (negative counts) always finds the row its addition made, and an
    -- INSERT of negative counts would fail its CHECK before ON CONFLICT could turn it into an update
    UPDATE operator_track_record SET
        reviews = reviews + p_reviews, on_time_points = on_time_points + p_on_time,
        as_agreed_points = as_agreed_points + p_as_agreed,
        communication_points = communication_points + p_communication,
        shipped_manifests = shipped_manifests + p_shipped,
        on_time_manifests = on_time_manifests + p_on_time_manifests
    WHERE org_id = p_org;
    IF NOT FOUND THEN
        INSERT INTO operator_track_record AS t (org_id, reviews, on_time_points, as_agreed_points,
                                                communication_points, shipped_manifests,
                                                on_time_manifests)
        VALUES (p_org, p_reviews, p_on_time, p_as_agreed, p_communication, p_shipped,
                p_on_time_manifests)
        ON CONFLICT (org_id) DO UPDATE SET  -- another transaction inserted it meanwhile
            reviews = t.reviews + EXCLUDED.reviews,
            on_time_points = t.on_time_points + EXCLUDED.on_time_points,
            as_agreed_points = t.as_agreed_points + EXCLUDED.as_agreed_points,
            communication_points = t.communication_points + EXCLUDED.communication_points,
            shipped_manifests = t.shipped_manifests + EXCLUDED.shipped_manifests,
            on_time_manifests = t.on_time_manifests + EXCLUDED.on_time_manifests;
    END IF;
END $$;

-- A change within one operator's record is applied as one net change (every intermediate state
-- satisfies the CHECKs); a change of operator takes from the old and gives to the new, the lower
-- organisation id first so that two such changes cannot deadlock.
CREATE FUNCTION track_record_review() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_org integer; old_scores integer[];
    new_org integer; new_scores integer[];
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.side = 'generator' THEN
        old_org := OLD.subject_org_id;
        old_scores := ARRAY[OLD.on_time, OLD.as_agreed, OLD.communication];
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.side = 'generator' THEN
        new_org := NEW.subject_org_id;
        new_scores := ARRAY[NEW.on_time, NEW.as_agreed, NEW.communication];
    END IF;
    IF old_org = new_org THEN
        IF old_scores <> new_scores THEN
            PERFORM track_record_add(new_org, 0, new_scores[1] - old_scores[1],
                                     new_scores[2] - old_scores[2], new_scores[3] - old_scores[3],
                                     0, 0);
        END IF;
        RETURN NULL;
    END IF;
    IF old_org IS NOT NULL AND (new_org IS NULL OR old_org < new_org) THEN
        PERFORM track_record_add(old_org, -1, -old_scores[1], -old_scores[2], -old_scores[3], 0, 0);
        old_org := NULL;
    END IF;
    IF new_org IS NOT NULL THEN
        PERFORM track_record_add(new_org, 1, new_scores[1], new_scores[2], new_scores[3], 0, 0);
    END IF;
    IF old_org IS NOT NULL THEN
        PERFORM track_record_add(old_org, -1, -old_scores[1], -old_scores[2], -old_scores[3], 0, 0);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION manifest_shipped(m manifest) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN m.status IN ('shipped', 'received', 'closed') AND m.shipped_at IS NOT NULL
                THEN 1 ELSE 0 END
$$;

CREATE FUNCTION manifest_on_time(m manifest) RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN manifest_shipped(m) = 1
                     AND m.shipped_at <= m.planned_pickup_at + interval '1 hour' THEN 1 ELSE 0 END
$$;

CREATE FUNCTION track_record_manifest() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_org integer; new_org integer;
    old_shipped integer := 0; old_on_time integer := 0;
    new_shipped integer := 0; new_on_time integer := 0;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_org := OLD.receiver_org_id;
        old_shipped := manifest_shipped(OLD); old_on_time := manifest_on_time(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_org := NEW.receiver_org_id;
        new_shipped := manifest_shipped(NEW); new_on_time := manifest_on_time(NEW);
    END IF;
    IF old_org = new_org THEN
        IF (old_shipped, old_on_time) <> (new_shipped, new_on_time) THEN
            PERFORM track_record_add(new_org, 0, 0, 0, 0, new_shipped - old_shipped,
                                     new_on_time - old_on_time);
        END IF;
        RETURN NULL;
    END IF;
    IF old_shipped = 1 AND (new_org IS NULL OR old_org < new_org) THEN
        PERFORM track_record_add(old_org, 0, 0, 0, 0, -1, -old_on_time);
        old_shipped := 0;
    END IF;
    IF new_shipped = 1 THEN
        PERFORM track_record_add(new_org, 0, 0, 0, 0, 1, new_on_time);
    END IF;
    IF old_shipped = 1 THEN
        PERFORM track_record_add(old_org, 0, 0, 0, 0, -1, -old_on_time);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER track_record_review AFTER INSERT OR UPDATE OR DELETE ON order_review
    FOR EACH ROW EXECUTE FUNCTION track_record_review();
CREATE TRIGGER track_record_manifest AFTER INSERT OR DELETE
    OR UPDATE OF status, shipped_at, planned_pickup_at, receiver_org_id ON manifest
    FOR EACH ROW EXECUTE FUNCTION track_record_manifest();
"""

BACKFILL = """
INSERT INTO operator_track_record (org_id, reviews, on_time_points, as_agreed_points,
                                   communication_points, shipped_manifests, on_time_manifests)
SELECT org_id, sum(reviews), sum(on_time_points), sum(as_agreed_points),
       sum(communication_points), sum(shipped), sum(on_time)
FROM (SELECT subject_org_id AS org_id, count(*) AS reviews, sum(on_time) AS on_time_points,
             sum(as_agreed) AS as_agreed_points, sum(communication) AS communication_points,
             0 AS shipped, 0 AS on_time
      FROM order_review WHERE side = 'generator' GROUP BY subject_org_id
      UNION ALL
      SELECT m.receiver_org_id, 0, 0, 0, 0, sum(manifest_shipped(m)), sum(manifest_on_time(m))
      FROM manifest m GROUP BY m.receiver_org_id) parts
GROUP BY org_id
HAVING sum(reviews) > 0 OR sum(shipped) > 0
"""


def upgrade() -> None:
    op.create_table(
        'operator_track_record',
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('reviews', sa.Integer(), server_default='0', nullable=False),
        sa.Column('on_time_points', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('as_agreed_points', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('communication_points', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('shipped_manifests', sa.Integer(), server_default='0', nullable=False),
        sa.Column('on_time_manifests', sa.Integer(), server_default='0', nullable=False),
        sa.CheckConstraint('reviews >= 0 AND on_time_points >= 0 AND as_agreed_points >= 0 '
                           'AND communication_points >= 0',
                           name=op.f('ck_operator_track_record_reviews_counted')),
        sa.CheckConstraint('on_time_manifests BETWEEN 0 AND shipped_manifests',
                           name=op.f('ck_operator_track_record_manifests_counted')),
        sa.ForeignKeyConstraint(['org_id'], ['organisation.id'],
                                name=op.f('fk_operator_track_record_org_id_organisation')),
        sa.PrimaryKeyConstraint('org_id', name=op.f('pk_operator_track_record')),
    )
    op.execute(FUNCTIONS)
    op.execute(BACKFILL)
    op.drop_index('ix_manifest_shipped_receiver', table_name='manifest')


def downgrade() -> None:
    op.create_index('ix_manifest_shipped_receiver', 'manifest', ['receiver_org_id'], unique=False,
                    postgresql_include=['planned_pickup_at', 'shipped_at'],
                    postgresql_where=sa.text("status IN ('shipped', 'received', 'closed') "
                                             "AND shipped_at IS NOT NULL"))
    op.execute("DROP TRIGGER track_record_manifest ON manifest; "
               "DROP TRIGGER track_record_review ON order_review; "
               "DROP FUNCTION track_record_manifest(); DROP FUNCTION track_record_review(); "
               "DROP FUNCTION manifest_on_time(manifest); DROP FUNCTION manifest_shipped(manifest); "
               "DROP FUNCTION track_record_add(integer, integer, bigint, bigint, bigint, integer, integer)")
    op.drop_table('operator_track_record')
