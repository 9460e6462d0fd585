"""The review forms: the generator rates the operator, the operator rates the generator."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length

from market.reviews.policies import CRITERIA, MAX_COMMENT, MAX_SCORE, MIN_SCORE
from market.reviews.queries import review_panel
from market.web.forms import Form

SCORE_CHOICES = [(n, str(n)) for n in range(MAX_SCORE, MIN_SCORE - 1, -1)]


CRITERION_LABELS = {
    "on_time": _l("Collected on time"),
    "as_agreed": _l("Handled as agreed"),
    "communication": _l("Communication"),
    "as_declared": _l("Waste as declared"),
    "payment": _l("Payment"),
}


def _score(label):
    return RadioField(label, choices=SCORE_CHOICES, coerce=int,
                      validators=[InputRequired(message=_l("Choose a score from 1 to 5."))])


class _ReviewForm(Form):
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=MAX_COMMENT)])

    side: str = ""

    def scores(self) -> dict[str, int]:
        return {name: getattr(self, name).data for name in CRITERIA[self.side]}


class OperatorReviewForm(_ReviewForm):
    """Filled in by the generator."""
    side = "generator"
    on_time = _score(CRITERION_LABELS["on_time"])
    as_agreed = _score(CRITERION_LABELS["as_agreed"])
    communication = _score(CRITERION_LABELS["communication"])


class GeneratorReviewForm(_ReviewForm):
    """Filled in by the operator."""
    side = "operator"
    as_declared = _score(CRITERION_LABELS["as_declared"])
    payment = _score(CRITERION_LABELS["payment"])


def review_form(side: str) -> _ReviewForm:
    return OperatorReviewForm() if side == "generator" else GeneratorReviewForm()


def panel_context(order, role: str | None) -> dict:
    """Template context of the order page's review panel (templates/reviews/_panel.html)."""
    panel = review_panel(order, role)
    form = review_form(panel["review_side"]) if panel["review_side"] else None
    return {**panel, "review_form": form, "review_criteria": CRITERION_LABELS}
