"""Monthly settlement statements on the web: the months of an organisation, PDF and CSV downloads.

Members read their own organisation's; platform staff any organisation's (from the list on
/statements); regulators those of organisations in their region. Anyone else gets a 404.
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from market import db
from market.accounts.models import Organisation
from market.settlement import statement_documents as documents
from market.settlement import statements
from market.web.security import scope

bp = Blueprint("statements", __name__)


@bp.get("/statements")
@login_required
def index():
    if current_user.org.kind == "enterprise":
        return redirect(url_for("statements.months", org_id=current_user.org_id))
    # Platform staff and regulators pick an organisation.
    orgs = list(db.session.scalars(scope(
        select(Organisation).where(Organisation.kind == "enterprise"), Organisation, current_user,
        org_column=Organisation.id, region_column=Organisation.region_code).order_by(Organisation.name).limit(500)))
    return render_template("settlement/statement_orgs.html", orgs=orgs)


@bp.get("/organisations/<int:org_id>/statements")
@login_required
def months(org_id):
    org = statements.statement_org(current_user, org_id)
    return render_template("settlement/statements.html", org=org,
                           months=[statements.month_label(m) for m in statements.months_of(org.id)])


def _statement(org_id: int, month: str) -> statements.Statement:
    org = statements.statement_org(current_user, org_id)
    return statements.build(org, statements.parse_month(month))


@bp.get("/organisations/<int:org_id>/statements/<month>.csv")
@login_required
def csv(org_id, month):
    st = _statement(org_id, month)
    return send_file(BytesIO(documents.statement_csv(st)), mimetype="text/csv",
                     download_name=documents.filename(st, "csv"), as_attachment=True, max_age=0)


@bp.get("/organisations/<int:org_id>/statements/<month>.pdf")
@login_required
def pdf(org_id, month):
    st = _statement(org_id, month)
    return send_file(BytesIO(documents.statement_pdf(st)), mimetype="application/pdf",
                     download_name=documents.filename(st, "pdf"), max_age=0)
