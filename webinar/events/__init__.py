"""Events: the meetings people register for."""
