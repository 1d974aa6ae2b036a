"""The scale benchmark, outside the app and not installed with it: 200 congregations of 200
Selves with five years of history (``python -m bench seed``), and the measurements ``make
bench`` takes on them (``python -m bench run``)."""
