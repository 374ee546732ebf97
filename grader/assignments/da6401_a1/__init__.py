"""`da6401-a1`: the course's Assignment 1, a NeuralNetwork repository built from its skeleton."""
