#!/build/venv/bin/python
# A venv path from the build stage, never copied.
print("zoo: ok")
