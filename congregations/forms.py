from __future__ import annotations

import re
from email.utils import getaddresses
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db.models import Field
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .account_selectors import emails_about
from .models import DISPLAY_NAME_LENGTH, NOTE_LENGTH, Ask, Congregation, Role, Self
from .request_keys import KeyedForm
from .services import PROFILE_FIELDS, SETTINGS_FIELDS, SETTINGS_LABELS
from .timezones import TimeZoneChoiceField
from .validators import single_line

# Enough for a whole congregation's first cohort in one paste.
MOST_ADDRESSES_AT_ONCE = 200


class NewCongregationForm(KeyedForm, forms.ModelForm):
    """Parses only: create_congregation validates again and writes. Keyed to the Self
    starting it (``key_owner``): there is no congregation yet."""

    class Meta:
        model = Congregation
        fields = ["name", "purpose"]
        labels = {"name": _("Name"), "purpose": _("Purpose")}
        help_texts = {
            "name": _("You can change it later."),
            "purpose": _("What brings these people together, in a few words."),
        }


class SettingsForm(forms.ModelForm):
    """Parses only: update_settings validates again and writes. Bound to a throwaway
    instance so a refused value never shows up in the congregation the page is about."""

    timezone = TimeZoneChoiceField(
        help_text=_(
            "Emails to people who have no timezone of their own yet give times in this "
            "one: an invitation says until when its link works."
        )
    )

    class Meta:
        model = Congregation
        fields = list(SETTINGS_FIELDS)
        labels = SETTINGS_LABELS
        help_texts = {
            # Translators: a facilitator looks after the congregation (invites, changes settings).
            "invitation_quota": _("Facilitators have no quota."),
            "soft_size_threshold": _(
                "Past this many members, facilitators see a notice that "
                "it may be time to split in two."
            ),
            "hard_size_cap": _("At this size new invitations are refused."),
            "meeting_grace_hours": _("After this, a meeting nobody logged counts as missed."),
            "conflict_deadline_days": _("A conflict still open after this counts as not resolved."),
            "facilitators_need_second_factor": _(
                "Before changing anything here, promoting, "
                "removing or correcting points, each facilitator confirms it is them with a "
                "passkey or an authenticator app, not only a password or an emailed code."
            ),
        }
        widgets = {"purpose": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        timezone = self.fields["timezone"]
        assert isinstance(timezone, TimeZoneChoiceField)
        timezone.keep(self.initial.get("timezone"))
        # The browser keeps each number within the bounds the model's validators hold,
        # before the server says so in the same validators' words.
        for name, field in self.fields.items():
            model_field = Congregation._meta.get_field(name)
            assert isinstance(model_field, Field), "a setting is a column of the congregation"
            for validator in model_field.validators:
                if isinstance(validator, MinValueValidator):
                    field.widget.attrs["min"] = validator.limit_value
                elif isinstance(validator, MaxValueValidator):
                    field.widget.attrs["max"] = validator.limit_value


class InvitationsForm(KeyedForm):
    emails = forms.CharField(
        label=_("Email addresses, one a line"),
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Write at least one email address.")},
    )
    note = forms.CharField(
        label=_("A personal note (optional)"),
        required=False,
        max_length=NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent with every invitation in this batch."),
    )

    def clean_emails(self) -> list[str]:
        """The addresses, in order, once each. What does not read as an address is kept
        as typed, so the service refuses it in the facilitator's own words."""
        emails = list(
            dict.fromkeys(
                entry
                for line in self.cleaned_data["emails"].splitlines()
                for entry in _entries(line)
            )
        )
        if not emails:
            raise ValidationError(_("Write at least one email address."))
        if len(emails) > MOST_ADDRESSES_AT_ONCE:
            raise ValidationError(
                ngettext(
                    "At most %(count)d address at a time, please.",
                    "At most %(count)d addresses at a time, please.",
                    MOST_ADDRESSES_AT_ONCE,
                )
                % {"count": MOST_ADDRESSES_AT_ONCE}
            )
        return emails


def _addresses_in(text: str) -> list[str] | None:
    """The addresses in ``text`` as a mail program writes them (``Name <address>``, quoted
    names with commas, separated by commas or semicolons); None when any part of it does
    not read as an address."""
    # Semicolons as commas, and no empty entries, which the standard library's strict
    # parsing refuses; a semicolon inside quotes only changes a name, which is dropped.
    separated = re.sub(r"\s*[,;][\s,;]*", ", ", text).strip(" ,")
    addresses = [address for _, address in getaddresses([separated]) if address]
    try:
        for address in addresses:
            validate_email(address)
    except ValidationError:
        return None
    return addresses if addresses or not separated else None


def _entries(line: str) -> list[str]:
    """What to invite from one pasted line. Where part of it is not an address, each piece
    goes on its own, as typed, so the others are still invited and the service names the
    piece it refuses."""
    addresses = _addresses_in(line)
    if addresses is not None:
        return addresses
    entries: list[str] = []
    for piece in filter(None, (piece.strip() for piece in re.split(r"[,;]", line))):
        entries.extend(_addresses_in(piece) or [piece])
    return entries


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class AboutYouForm(forms.ModelForm):
    """What a Self tells the congregation about themselves and wants emailed, as the
    welcome step asks it on their first day and their profile keeps it. Parses only:
    update_profile validates again and writes. Not bound to ``self_``, so a refused value
    never shows up in the page's navigation."""

    timezone = TimeZoneChoiceField(help_text=_("Times are shown to you in this timezone."))
    language = forms.ChoiceField(
        label=_("Language"),
        # Each language named in itself, as the switcher at the foot of each page names it.
        choices=[("", _("The language of my browser")), *settings.LANGUAGES],
        required=False,
        help_text=_("Pages and the emails you get are in this language."),
        error_messages={
            "invalid_choice": _("Choose one of the languages listed, or your browser's.")
        },
    )
    emails_about = forms.MultipleChoiceField(
        label=_("Email me about"),
        choices=Ask.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "What waits for you is always on your congregation's home page; "
            "untick what you would rather not be emailed about."
        ),
    )

    class Meta:
        model = Self
        fields = [field for field in (*PROFILE_FIELDS, "emails_about") if field != "display_name"]
        help_texts = {
            "email_digest": _(
                "All that waits for you in one email each morning (8:00 your "
                "time), rather than an email as each comes."
            ),
        }
        widgets = {
            "paid_work": forms.Textarea(attrs={"rows": 2}),
            "meaningful_work": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, data: Any = None, *, self_: Self) -> None:
        initial = model_to_dict(self_, fields=self._meta.fields)
        super().__init__(data, initial={**initial, "emails_about": emails_about(self_=self_)})
        field = self.fields["timezone"]
        assert isinstance(field, TimeZoneChoiceField)
        field.keep(self_.timezone)


class WelcomeForm(AboutYouForm):
    # Their first day: the browser's timezone is a better guess than the server's UTC.
    timezone = TimeZoneChoiceField(
        prefill=True, help_text=_("Times are shown to you in this timezone.")
    )

    def __init__(self, data: Any = None, *, self_: Self) -> None:
        super().__init__(data, self_=self_)
        if str(self_.timezone) != "UTC":
            # Chosen already (in another congregation, or on the profile): keep it chosen,
            # and only offer the browser's zone first.
            self.fields["timezone"].widget.attrs["data-timezone"] = ""


class ProfileForm(AboutYouForm):
    class Meta(AboutYouForm.Meta):
        fields = [*PROFILE_FIELDS, "emails_about"]
        labels = {"display_name": _("Display name")}
        help_texts = {
            **AboutYouForm.Meta.help_texts,
            # Translators: a congregation is a group of 30 to 200 people who mostly know each
            # other's name (the proposal's "Congregation").
            "display_name": _("How the others in your congregations see you."),
        }


class SignUpForm(KeyedForm):
    """The account an invited person creates; their email is the invitation's. Keyed to
    the congregation they join."""

    display_name = forms.CharField(
        max_length=DISPLAY_NAME_LENGTH,
        validators=[single_line],
        label=_("Display name"),
        help_text=_("How the others in your congregation will see you."),
    )
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password2(self) -> str:
        password1 = self.cleaned_data.get("password1")
        password2 = self.cleaned_data["password2"]
        if password1 and password1 != password2:
            raise forms.ValidationError(_("The two passwords are not the same."))
        return password2

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password2")
        if password:
            candidate = Self(email=self.email, display_name=cleaned.get("display_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
