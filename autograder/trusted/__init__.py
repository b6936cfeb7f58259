"""The trusted test side: what runs the tests of one notebook against a jailed student process.

* :mod:`autograder.trusted.testproc`: the test process, forked by the zygote per
  submission; it forks the student process (which enters its jail), runs the
  test cells here and returns one record per cell to the grader;
* :mod:`autograder.trusted.proxy`: the proxies that stand for the student's
  objects in the test namespace, and the session that sends their calls;
* :mod:`autograder.trusted.claims`: what of a student process's reply may be
  kept (claims, never facts).

The other side of the boundary is :mod:`autograder.jail` (building the jail,
and :mod:`autograder.jail.student`, which runs inside it with the student's
code); the two sides speak only the plain data of :mod:`autograder.wire`.

The rule: the trusted side never runs a jailed-side helper on trusted data.
Trusted values (tests, expected values, hidden inputs) are handled here; what
comes back from the student process is decoded by :mod:`autograder.wire` and
judged by :mod:`autograder.trusted.claims`.
"""
