"""PyYAML, imported for all of pybruin: ``from pybruin.pyyaml import yaml``.

Importing PyYAML compiles one regular expression that pybruin never uses: ``yaml.reader.Reader.NON_PRINTABLE``,
the pure-Python reader's check for characters YAML does not allow (the C loader checks in C). Its character
class spans most of Unicode, and Python 3.11's ``re`` compiler walks such a class one code point at a time:
6 ms, a tenth of what ``bruin run`` spends before its first asset starts. The complement of the class, written
out, is the same set of characters and compiles in a tenth of the time (only the surrogates' range is long).

So before PyYAML is imported, ``re``'s cache of compiled patterns receives the complement, compiled, under
PyYAML's own pattern: PyYAML's ``re.compile`` then returns it. The two match exactly the same characters (a
test compares them over every code point). Where ``re`` keeps its cache differently, or PyYAML was imported
first, nothing is seeded and PyYAML compiles its pattern as usual: slower, never different.
"""

from __future__ import annotations

import re

#: ``Reader.NON_PRINTABLE`` as PyYAML writes it: any character but tab, LF, CR, printable ASCII, NEL and the
#: printable ranges of Unicode.
NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
#: The same set, listed: the C0 controls but tab, LF and CR; DEL and the C1 controls but NEL; the surrogates;
#: U+FFFE and U+FFFF.
NON_PRINTABLE_LISTED = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"

_cache = getattr(re, "_cache", None)
if isinstance(_cache, dict):
    _cache.setdefault((str, NON_PRINTABLE, 0), re.compile(NON_PRINTABLE_LISTED))

import yaml  # noqa: E402  (after the seeding above, which is this module's reason to exist)

__all__ = ["yaml"]
