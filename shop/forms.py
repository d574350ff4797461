"""Forms the shop pages use: picking a learner name, and writing an order."""

from typing import Any

from django import forms

from apiserver import accounts
from shop.manifests import DNS_LABEL, POD_IMAGES, ManifestError, parse_manifest


class LearnerForm(forms.Form):
    """A learner name becomes a namespace too, so it follows Kubernetes' naming rules."""

    name = forms.CharField(
        label="Learner name",
        max_length=63,
        help_text="Lowercase letters, digits and '-', like alice or team-7. "
        "It also names your namespace, your own delivery address in the cluster.",
        error_messages={"max_length": "Keep it to 63 characters or fewer."},
    )
    display_name = forms.CharField(
        label="Display name (optional)",
        max_length=100,
        required=False,
        help_text="How the pages greet you; it is never sent to the API.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not DNS_LABEL.match(name):
            raise forms.ValidationError(
                "Use only lowercase letters, digits and '-', starting and ending with a "
                "letter or digit (for example alice or team-7). Kubernetes names namespaces "
                "this way, and your name becomes your namespace."
            )
        if accounts.is_reserved(name):
            raise forms.ValidationError(
                "That name belongs to the cluster itself (default, kube-..., system-..., "
                "instructor-... and the app's own users). Pick another."
            )
        return name


class PodChoiceForm(forms.Form):
    """The guided Pod order: a name and one of a few known images, nothing free-form."""

    name = forms.CharField(label="Pod name", max_length=63, initial="web")
    image = forms.ChoiceField(label="Image", choices=POD_IMAGES, initial=POD_IMAGES[0][0])

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not DNS_LABEL.match(name):
            raise forms.ValidationError(
                "A Pod name uses lowercase letters, digits and '-', like web or web-2."
            )
        return name


class OrderForm(forms.Form):
    """The order itself: one object as YAML (JSON is YAML too)."""

    manifest = forms.CharField(
        label="Your order (YAML)",
        widget=forms.Textarea(attrs={"rows": 22, "cols": 72, "spellcheck": "false"}),
        strip=False,
        error_messages={"required": "The order form is empty. Type one object in YAML."},
    )

    def clean_manifest(self) -> str:
        text = self.cleaned_data["manifest"]
        try:
            self.parsed: dict[str, Any] = parse_manifest(text)
        except ManifestError as error:
            raise forms.ValidationError(str(error)) from None
        return text
