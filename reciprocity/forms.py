"""Forms of the game's pages. They parse what a person chose; the services judge it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from congregations.models import Self
from congregations.request_keys import KeyedForm
from congregations.validators import single_line
from congregations.web import SharesItsPage

from .models import (
    CONFLICT_TITLE_LENGTH,
    CORRECTION_REASON_LENGTH,
    VENTURE_NAME_LENGTH,
    LegalForm,
    OfferKind,
)
from .rules import Level


class PeopleField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Self) -> str:
        return obj.display_name


class ListeningRoundForm(SharesItsPage, KeyedForm):
    id_prefix = "listening"

    participants = PeopleField(
        queryset=Self.objects.none(),
        label=_("Who sat in the circle"),
        error_messages={
            "required": _("Choose who took part."),
            "invalid_choice": _("Choose people who were at this meeting."),
        },
    )
    everyone_listened = forms.BooleanField(
        required=False,
        label=_("Everyone listened to everyone"),
        # Translators: Reciprocity: the Reciprocity Game, whose points members earn by doing each
        # other favours.
        help_text=_("If everyone listens to everyone, you all just earned 1 reciprocity point."),
    )

    def __init__(self, *args: Any, present: QuerySet[Self], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = present  # type: ignore[attr-defined]
        self.fields["participants"].initial = list(present)


class MoneyRoundForm(SharesItsPage, KeyedForm):
    """The focus person, whether they asked, and what each of the others offered: one
    group of boxes per person present, named ``offer_<id>``."""

    id_prefix = "money"

    focus = forms.ModelChoiceField(
        queryset=Self.objects.none(),
        label=_("Who talked about their work"),
        help_text=_("The work they do for money, and the work that is most meaningful to them."),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose who talked about their work."),
            "invalid_choice": _("Choose someone who was at this meeting."),
        },
    )
    asked = forms.BooleanField(
        required=False,
        label=_("They asked for something they need"),
        help_text=_("5 points for asking."),
    )
    mutual_respect = forms.BooleanField(
        required=False,
        label=_("We talked and listened with mutual respect and positive regard"),
        help_text=_("An extra point for the focus person and for each person who offered."),
    )

    def __init__(self, *args: Any, present: QuerySet[Self], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["focus"].queryset = present  # type: ignore[attr-defined]
        self.fields["focus"].label_from_instance = lambda s: s.display_name  # type: ignore[attr-defined]
        self.people = list(present)
        for person in self.people:
            self.fields[self.offer_field(person)] = forms.MultipleChoiceField(
                required=False,
                label=person.display_name,
                choices=OfferKind.choices,
                widget=forms.CheckboxSelectMultiple,
            )

    @staticmethod
    def offer_field(person: Self) -> str:
        return f"offer_{person.pk}"

    def offer_fields(self) -> Iterable[forms.BoundField]:
        return (self[self.offer_field(person)] for person in self.people)

    def offers(self) -> dict[int, list[str]]:
        """{offerer id: what they offered} for everyone who offered something."""
        return {
            person.pk: kinds
            for person in self.people
            if (kinds := self.cleaned_data.get(self.offer_field(person)))
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        focus = cleaned.get("focus")
        if focus is not None and cleaned.get(self.offer_field(focus)):
            self.add_error(
                self.offer_field(focus), _("The focus person does not offer to themselves.")
            )
        return cleaned


class ConflictForm(KeyedForm):
    title = forms.CharField(
        max_length=CONFLICT_TITLE_LENGTH,
        validators=[single_line],
        label=_("A short title"),
        help_text=_("Only the people in this conflict will see it."),
    )
    parties = PeopleField(
        queryset=Self.objects.none(),
        label=_("Who else is in this conflict"),
        error_messages={
            # Translators: A crew is a small group of 3–8 people who meet about once a month.
            "required": _("Choose at least one other person from your crew.")
        },
    )

    def __init__(self, *args: Any, crew_mates: QuerySet[Self], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parties"].queryset = crew_mates  # type: ignore[attr-defined]


class VentureForm(KeyedForm):
    name = forms.CharField(
        max_length=VENTURE_NAME_LENGTH,
        validators=[single_line],
        # Translators: A venture is a company, association or co-op whose legal ownership
        # members share.
        label=_("The venture’s name"),
    )
    legal_form = forms.ChoiceField(
        choices=LegalForm.choices,
        label=_("Incorporated as"),
        help_text=_(
            "A company, an association, a co-op, a savings pool, a lending circle "
            "or a livelihood pod."
        ),
    )
    co_owners = PeopleField(
        queryset=Self.objects.none(),
        label=_("Who shares the legal ownership with you"),
        error_messages={
            # Translators: A co-owner shares the legal ownership of a venture.
            "required": _("Choose at least one other co-owner.")
        },
    )

    def __init__(self, *args: Any, others: QuerySet[Self], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["co_owners"].queryset = others  # type: ignore[attr-defined]


class ReversalForm(forms.Form):
    reason = forms.CharField(
        max_length=CORRECTION_REASON_LENGTH,
        validators=[single_line],
        label=_("Why is this entry being corrected?"),
    )


class EntryFilter(forms.Form):
    """Which entries a list shows; a value that does not parse is ignored."""

    member = forms.IntegerField(required=False, min_value=1)
    crew = forms.IntegerField(required=False, min_value=1)
    level = forms.TypedChoiceField(required=False, coerce=int, choices=Level.choices)
    month = forms.DateField(required=False, input_formats=["%Y-%m"])

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for selectors.entries; invalid values are left out."""
        self.is_valid()
        names = {"member": "member_id", "crew": "crew_id", "level": "level", "month": "month"}
        return {names[k]: v for k, v in self.cleaned_data.items() if v not in (None, "")}
