"""Sam: a Dutch chatbot that helps young people stay safe online."""
