"""English dates as the app has always written them, day before month ("13 December
2026"), where Django's English is American ("Dec. 13, 2026"). Spanish and German keep
Django's own formats. Templates name these formats (``|date:"DATE_FORMAT"``) rather than
spelling one out, so each language writes a date its own way."""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
TIME_FORMAT = "H:i"
# The week starts on Monday, as in Spanish and German (and ISO 8601).
FIRST_DAY_OF_WEEK = 1
