import Training
print("trainer")
