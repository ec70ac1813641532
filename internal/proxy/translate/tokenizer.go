package translate

func tokenCount(s string) int { return heuristicCount(s) }
