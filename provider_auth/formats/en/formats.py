"""British English: day before month, 24-hour clock, weeks start on Monday."""

DATE_FORMAT = "j F Y"  # 25 May 2026
TIME_FORMAT = "H:i"  # 14:30
DATETIME_FORMAT = "j F Y, H:i"  # 25 May 2026, 14:30
YEAR_MONTH_FORMAT = "F Y"  # May 2026
MONTH_DAY_FORMAT = "j F"  # 25 May
SHORT_DATE_FORMAT = "d/m/Y"  # 25/05/2026
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # 25/05/2026 14:30
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
