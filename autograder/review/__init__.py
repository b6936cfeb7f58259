"""Written answers, graded by question with rubrics: ``python -m autograder review DIR``.

The modules, one stage each (imports run one way, from the page down):

- :mod:`.rubric`: the questions of an assignment and their rubrics, read from the source notebook;
- :mod:`.store`: the reviews (points, rubric items, comment, the answer's hash) kept in ``DIR/reviews.json``;
- :mod:`.carry`: reviews applied to the results and written into every output of ``DIR``, as one set;
- :mod:`.scores`: the spreadsheet path (``--export-scores``, ``--import-scores``);
- :mod:`.render`: an answer's markdown as sanitised HTML, its math as MathML;
- :mod:`.server`: the local web page (Tornado, on 127.0.0.1, every asset served locally).
"""
