# bareASGI (the Python original) on uvicorn: the reference row of benches/load.sh.
# `python bare_hello.py [PORT]` serves "Hello, World!" as text/plain at `/`.
import sys
import uvicorn
from bareasgi import Application, HttpRequest, HttpResponse, text_writer

async def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(200, [(b'content-type', b'text/plain')], text_writer('Hello, World!'))

app = Application()
app.http_router.add({'GET'}, '/', hello)
uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[1]) if len(sys.argv) > 1 else 8003, log_level='warning', access_log=False)
