"""How long a program file's spans of days may be."""

# A century. A longer span is a typo, and one long enough overflows the dates it is added to (a receipt's age
# window of a billion days did: found by tests/fuzz/test_program_fuzz.py).
MAX_DAYS = 36_500
