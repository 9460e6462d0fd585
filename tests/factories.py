"""factory_boy factories, one per model that tests create."""
from __future__ import annotations

from datetime import date

import factory
from factory.alchemy import SQLAlchemyModelFactory

from market import db
from market.accounts.models import Licence, LicenceItem, Organisation, Permit, User
from market.accounts.passwords import hash_password
from market.demo import credit_code
from market.listings.validation import today

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        # commit = release the test's savepoint: the rows survive a use case that rolls back
        sqlalchemy_session_persistence = "commit"


class OrganisationFactory(_Base):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    credit_code = factory.Sequence(lambda n: credit_code("440306", f"T{n:08d}"))
    kind = "enterprise"
    types = ["generator"]
    region_code = "440306"
    address = "深圳市宝安区测试路1号"
    status = "verified"


class RegulatorOrgFactory(OrganisationFactory):
    kind = "regulator"
    types: list = []
    credit_code = None
    name = factory.Sequence(lambda n: f"生态环境局{n}")
    region_code = "440300"
    scope_prefix = "4403"


class PlatformOrgFactory(OrganisationFactory):
    kind = "platform"
    types: list = []
    credit_code = None
    name = "Hazex platform"


class UserFactory(_Base):
    class Meta:
        model = User

    org = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"user{n}@example.cn")
    name = factory.Sequence(lambda n: f"用户{n}")
    password_hash = _PASSWORD_HASH
    is_org_admin = True


class LicenceFactory(_Base):
    class Meta:
        model = Licence

    org = factory.SubFactory(OrganisationFactory, types=["operator"])
    number = factory.Sequence(lambda n: f"粤危废测试{n:05d}")
    kind = "comprehensive"
    valid_from = factory.LazyFunction(lambda: date(today().year - 1, 1, 1))
    valid_to = factory.LazyFunction(lambda: date(today().year + 2, 12, 31))
    status = "verified"


class LicenceItemFactory(_Base):
    class Meta:
        model = LicenceItem

    licence = factory.SubFactory(LicenceFactory)
    category_code = "HW08"
    codes: list = []
    operations = ["收集", "贮存", "利用"]
    method_codes = ["R9"]
    approved_kg_per_year = 1_000_000


class PermitFactory(_Base):
    class Meta:
        model = Permit

    org = factory.SubFactory(OrganisationFactory, types=["carrier"])
    kind = "transport"
    number = factory.Sequence(lambda n: f"粤交运{n:06d}")
    valid_from = factory.LazyFunction(lambda: date(today().year - 1, 1, 1))
    valid_to = factory.LazyFunction(lambda: date(today().year + 2, 12, 31))
    status = "verified"
