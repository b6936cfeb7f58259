import sys, pathlib, tempfile
sys.path.insert(0,'.')
from tests.helpers import *
a=sys.argv[1]
tmp=pathlib.Path(tempfile.mkdtemp())
solution = solution_answers(a)
notebooks = {"solution": submission(a, solution)}
correct, wrong = catalog_entries(a)
slips = slip_entries(a)
for name in correct + wrong + slips:
    notebooks[name] = submission(a, {**solution, **parse_entry(a, name)[1]})
r = grade_class(tmp, a, notebooks, *sys.argv[2:])
bad=0
for name in ["solution"]+correct:
    if r.lost(name): bad+=1; print("CORRECT LOST", name, {c: r.message(name,c)[:300] for c in r.lost(name)})
for name in wrong:
    catches, _ = parse_entry(a, name)
    miss=[c for c in catches if c not in r.lost(name)]
    if miss: bad+=1; print("WRONG MISSED", name, miss, r.lost(name))
for name in slips:
    h = entry_header(a, name)
    lost = r.lost(name)
    extra = [c for c in lost if c not in h.loses]
    if extra or not lost: bad+=1; print("SLIP", name, "loses", h.loses, "lost", lost, {c: r.message(name,c)[:300] for c in extra})
for name in wrong + slips:
    h = entry_header(a, name)
    for cell, words in h.messages.items():
        for w in words:
            if w not in r.message(name, cell): bad+=1; print("MSG", name, cell, repr(w), "not in", repr(r.message(name, cell)[:300]))
    for cell, tags in h.tags.items():
        got = r.cells[name][cell].get("tags","").split()
        for t in tags:
            if t not in got: bad+=1; print("TAG", name, cell, t, got)
print(r.stderr[-600:])
print("bad", bad, "of", len(notebooks))
