"""ServiceNow release families, oldest first (servicenow-behaviour §8).

A leaf module: settings, domain and web all import it, it imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Release families in order (servicenow-behaviour §8). Two-word names are joined and
#: lower-cased the way ``glide.war`` spells them (``washingtondc``, ``newyork``, ``sandiego``).
FAMILIES: tuple[str, ...] = (
    "aspen", "berlin", "calgary", "dublin", "eureka", "fuji", "geneva", "helsinki", "istanbul",
    "jakarta", "kingston", "london", "madrid", "newyork", "orlando", "paris", "quebec", "rome",
    "sandiego", "tokyo", "utah", "vancouver", "washingtondc", "xanadu", "yokohama", "zurich",
    "australia",
)

#: The newest family in the reference: the default for ``serve``.
DEFAULT_RELEASE = "australia"

# A plausible GA date per family for the glide.war string; only the shape is documented
# (glide-<family>-<MM-DD-YYYY>__patch<N>-<MM-DD-YYYY>_<MM-DD-YYYY_HHMM>.zip, §8).
_GA_YEAR = {name: 2010 + index // 2 for index, name in enumerate(FAMILIES)}


class UnknownRelease(ValueError):
    """The name is not a ServiceNow release family."""


@dataclass(frozen=True)
class Release:
    """One release family and what an instance on it reports about itself."""

    family: str

    @property
    def index(self) -> int:
        """Position in :data:`FAMILIES`; later releases compare greater."""
        return FAMILIES.index(self.family)

    @property
    def display_name(self) -> str:
        """``Washingtondc``-style build name, as ``/stats.do`` shows it (§8)."""
        return self.family.capitalize()

    @property
    def glide_war(self) -> str:
        """The ``glide.war`` property value (§8)."""
        year = _GA_YEAR[self.family]
        first = "12" if self.index % 2 else "06"
        return (
            f"glide-{self.family}-{first}-10-{year}__patch4-03-12-{year + 1}"
            f"_03-14-{year + 1}_1152.zip"
        )

    def at_least(self, family: str) -> bool:
        """True when this release is ``family`` or later (``at_least("kingston")``)."""
        return self.index >= parse_release(family).index


def parse_release(name: str) -> Release:
    """Accept ``Washington DC``, ``washingtondc``, ``San Diego``...

    Raises :class:`UnknownRelease` for anything else.
    """
    family = name.replace(" ", "").replace("-", "").replace("_", "").lower()
    if family not in FAMILIES:
        raise UnknownRelease(
            f"unknown release {name!r}; expected one of: {', '.join(FAMILIES)}"
        )
    return Release(family)
