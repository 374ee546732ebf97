"""backprop-grader: grade Module 2A (losses, activations, backpropagation, autograd)."""
import sys

from grader.personal_case import personal_case

__version__ = "0.1.0"
__all__ = ["personal_case", "skip_unused_imports", "__version__"]

# Optional libraries that other libraries import eagerly and the grader never uses. jsonschema
# (under nbformat) imports rfc3987_syntax for its "iri" format checks when it is installed (as
# Jupyter installs it); that builds a parser for about half a second, and nbformat validates
# notebooks without format checks. `sys.modules[name] = None` makes the import fail, which
# jsonschema expects of any optional library.
UNUSED_OPTIONAL_IMPORTS = ("rfc3987_syntax",)


def skip_unused_imports() -> None:
    """Keep UNUSED_OPTIONAL_IMPORTS out of this process (one that was imported already stays).

    Called where the grader owns the process (`grade` and its pool processes), never on import:
    a notebook kernel that imports grader keeps its libraries as they are.
    """
    for name in UNUSED_OPTIONAL_IMPORTS:
        sys.modules.setdefault(name, None)
