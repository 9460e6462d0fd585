"""Human sentences for matching rules and reasons, in the user's language (views, API, errors)."""
from __future__ import annotations

from flask_babel import gettext as _

from market.listings.matching import Exclusion, Reason


def rule_message(rule: str, params: dict | None = None) -> str:
    """Why an operator cannot take the request, for a matching rule id."""
    p = params or {}
    messages = {
        "org_suspended": lambda: _("The operator's organisation is suspended."),
        "org_blacklisted": lambda: _("A regulator has blacklisted the operator's organisation."),
        "org_not_verified": lambda: _("The operator's organisation is not verified."),
        "licence_not_valid": lambda: _("No verified licence of the operator is valid on the wanted date."),
        "category_not_covered": lambda: _("No licence item covers this waste category."),
        "code_not_covered": lambda: _("The licence items for this category do not list this waste code."),
        "operation_not_allowed": lambda: _(
            "The licence items allow neither utilisation nor disposal (collection counts only for small lots)."),
        "capacity_exhausted": lambda: _(
            "Remaining licensed capacity this year (%(remaining)s kg) is below the quantity (%(quantity)s kg).",
            remaining=p.get("remaining_kg", "?"), quantity=p.get("quantity_kg", "?")),
        "region_not_served": lambda: _("The operator does not serve the pickup region %(region)s.",
                                       region=p.get("region_code", "")),
    }
    fn = messages.get(rule)
    return fn() if fn else rule


def reason_message(reason: Reason) -> str:
    """Why a qualified operator may take the request, one sentence per passed rule."""
    p = reason.params
    messages = {
        "org_verified": lambda: _("Organisation verified."),
        "licence_valid": lambda: _("Licence %(licence)s valid until %(date)s.",
                                   licence=p["licence"], date=p["valid_to"]),
        "category_covered": lambda: _("Licensed for %(category)s.", category=p["category"]),
        "code_covered": lambda: (_("Waste code %(code)s listed on the licence.", code=p["code"])
                                 if p.get("listed") else
                                 _("Licence covers the whole category, including %(code)s.", code=p["code"])),
        "operation_allowed": lambda: _("Licensed operations: %(ops)s.", ops="、".join(p["operations"])),
        "capacity_available": lambda: _("%(kg)s kg of licensed capacity left this year.",
                                        kg=f"{p['remaining_kg']:,}"),
        "region_served": lambda: _("Serves region %(prefix)s.", prefix=p["prefix"]),
        "method_group_offered": lambda: _("Offers the preferred method group %(group)s.", group=p["group"]),
        # track record (Match.record)
        "on_time_record": lambda: _("Picked up on time: %(percent)s of %(n)s shipped manifests.",
                                    percent=f"{round(p['rate'] * 100)}%", n=p["manifests"]),
        "on_time_not_measured": lambda: _("On-time rate: not measured yet"),
        "reviews": lambda: _("Rated %(average)s / 5 by generators (%(n)s reviews).",
                             average=f"{p['average']:.1f}", n=p["count"]),
        "no_reviews": lambda: _("No reviews yet."),
    }
    fn = messages.get(reason.rule)
    return fn() if fn else reason.rule


def exclusion_message(exclusion: Exclusion) -> str:
    return rule_message(exclusion.rule, exclusion.params)
