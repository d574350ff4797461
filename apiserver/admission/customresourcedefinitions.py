"""Validating: a CustomResourceDefinition's names, versions and status, as apiextensions does.

A third-party seller's definition is checked like the real apiextensions-apiserver checks
it (names, scope, one storage version, printer columns), and given its status
(acceptedNames, NamesAccepted, Established) when it passes.
"""

from apiserver.admission.plugin import Attributes, Plugin
from apiserver.registry import crds
from apiserver.registry.validation import Causes


def _admit(attributes: Attributes, causes: Causes) -> None:
    crds.admit_definition(attributes.obj, attributes.old, causes)


PLUGIN = Plugin(
    "CustomResourceDefinitionNames",
    "validating",
    _admit,
    resources=frozenset({crds.CRD_RESOURCE}),
)
