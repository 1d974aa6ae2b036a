"""The scale benchmark: 200 congregations of 200 Selves with five years of history
(``seed_scale``), and the measurements ``make bench`` takes on them (``bench``)."""
