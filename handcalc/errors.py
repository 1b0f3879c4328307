"""The errors handcalc raises for things a person got wrong (never for its own bugs)."""


class HandcalcError(ValueError):
    """Base class: the message says what was wrong and what is accepted."""


class SpecError(HandcalcError):
    """A spec option is unknown or out of range."""


class DocumentError(HandcalcError):
    """An authored or exchanged JSON document is malformed (shapes, values, targets …)."""


class BudgetError(HandcalcError):
    """The options make a problem impossible within the nice-number or printing budgets."""
