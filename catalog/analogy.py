"""The Amazon side of the catalog, written in our own words.

Each API group is a department; each kind is a product with a line on what sort of
stuff it is, where the shop analogy holds, and where it breaks.
"""

DEPARTMENTS: dict[str, tuple[str, str]] = {
    # group name ("" for core): (department name, pitch)
}

PRODUCTS: dict[str, tuple[str, str, str]] = {
    # "group/Kind": (stuff, where the analogy holds, where it breaks)
}


def department(group: str) -> tuple[str, str]:
    """The department name and pitch for an API group, with a fallback for new groups."""
    if group in DEPARTMENTS:
        return DEPARTMENTS[group]
    label = group.split(".")[0].replace("-", " ").title() if group else "Core"
    return f"{label} department", f"Products served by the {group or 'core'} API group."


def product(group: str, kind: str) -> tuple[str, str, str]:
    """What kind of stuff a kind is, where the analogy holds and where it breaks."""
    if f"{group}/{kind}" in PRODUCTS:
        return PRODUCTS[f"{group}/{kind}"]
    return (
        f"A {kind} record kept by the {group or 'core'} API",
        "You order it through the same front door as everything else, and it is stored "
        "in the warehouse's books until someone deletes it.",
        "Nothing is shipped: ordering it only writes down what you want, and some program "
        "in the cluster has to read that record and act on it.",
    )
