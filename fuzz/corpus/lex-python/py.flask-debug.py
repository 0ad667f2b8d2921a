from flask import Flask

app = Flask(__name__)

if __name__ == "__main__":
    # ruleid: py.flask-debug
    app.run(host="0.0.0.0", debug=True)
    # ok: py.flask-debug
    app.run(host="127.0.0.1")
