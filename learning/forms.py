"""Forms for joining a workshop and creating one."""

from django import forms

from learning.models import JOIN_CODE_LENGTH


class JoinForm(forms.Form):
    """A join code from the instructor and the name the class will see."""

    code = forms.CharField(
        label="Workshop code",
        max_length=20,
        help_text=f"The {JOIN_CODE_LENGTH} letters and digits your instructor shows.",
    )
    display_name = forms.CharField(
        label="Your name",
        max_length=60,
        help_text="How you appear on the instructor's dashboard. No account is created.",
    )

    def clean_code(self) -> str:
        """Accept the code however it was typed: any case, spaces or dashes between groups."""
        code = "".join(ch for ch in self.cleaned_data["code"].upper() if ch.isalnum())
        if len(code) != JOIN_CODE_LENGTH:
            raise forms.ValidationError(
                f"A workshop code has {JOIN_CODE_LENGTH} letters and digits, like K7MXQ3."
            )
        return code

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise forms.ValidationError("Tell the class what to call you.")
        return name


class WorkshopForm(forms.Form):
    title = forms.CharField(label="Workshop title", max_length=200)
    code_required = forms.BooleanField(
        label="Learners must type the join code",
        required=False,
        help_text="The join link then does not carry the code: only people who see it in the "
        "room can join.",
    )
