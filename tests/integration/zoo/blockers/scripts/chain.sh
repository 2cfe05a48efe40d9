#!/opt/py/bin/python
# python -> python3 -> /usr/local/bin/python3.11, which is missing.
print("zoo: ok")
