"""Print the N-th fenced shell block (1-based) of the README's `Quick start` section."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
index = int(sys.argv[2])
section = re.split(r"^## ", text, flags=re.M)
quick = next((s for s in section if s.lower().startswith("quick start")), None)
if quick is None:
    sys.exit("README.md has no '## Quick start' section")
blocks = re.findall(r"```(?:sh|bash|shell)?\n(.*?)```", quick, flags=re.S)
if len(blocks) < index:
    sys.exit(f"README.md's Quick start has {len(blocks)} shell block(s); block {index} was asked for")
print(" ".join(line.strip() for line in blocks[index - 1].strip().splitlines()))
