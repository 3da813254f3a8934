"""ccctl.esl."""
