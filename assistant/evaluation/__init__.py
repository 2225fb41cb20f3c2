"""Evaluation of retrieval, answers, citations and declining on SQuAD-format question sets."""
