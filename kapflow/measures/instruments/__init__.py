"""The instrument engine of measurement-based care: pure, standard library only.

``model`` says what an instrument and a score are, ``scoring`` validates and scores answers
(skip logic included), ``definitions`` reads and writes instrument definitions as JSON, and
``builtin`` holds the instruments kapflow ships (PHQ-9, GAD-7, C-SSRS screener, MOAA/S).
Nothing here imports Django, so the rules are tested fast and exhaustively on their own.
"""
