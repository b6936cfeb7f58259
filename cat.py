import sys, pathlib, tempfile
sys.path.insert(0,'.')
from tests import helpers
from tests.helpers import *
a=sys.argv[1]
tmp=pathlib.Path(tempfile.mkdtemp())
solution = solution_answers(a)
notebooks = {"solution": submission(a, solution)}
correct, wrong = catalog_entries(a)
for name in correct + wrong + slip_entries(a):
    notebooks[name] = submission(a, {**solution, **parse_entry(a, name)[1]})
r = grade_class(tmp, a, notebooks, *sys.argv[2:])
bad=0
for name in ["solution"]+correct:
    if r.lost(name): bad+=1; print("CORRECT LOST", name, {c: r.message(name,c)[:200] for c in r.lost(name)})
for name in wrong:
    catches, _ = parse_entry(a, name)
    miss=[c for c in catches if c not in r.lost(name)]
    if miss: bad+=1; print("WRONG MISSED", name, miss, r.lost(name))
print(r.stderr[-1500:])
print("bad", bad, "of", len(notebooks))
