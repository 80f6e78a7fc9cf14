"""The reporting kit of the manager pages: rollups of numbers per day or per
week kept current by tasks (``rollups``), the periods they are cut in
(``periods``), the state row and changed-period marks every rollup keeps
(``models``), and the base of the pages' filter forms (``forms``).

A page that must answer in milliseconds over millions of rows reads a small
rollup table; one module per app says how each number is counted and
subclasses :class:`handoff.reports.rollups.Rollup` to write it.
"""
