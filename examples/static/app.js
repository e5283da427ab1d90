// Served by tower-http's ServeDir under /static (gzip-compressed on the way by the
// CompressionLayer); the events below come from a bareasgi route, uncompressed.
const clock = document.getElementById("clock");
const events = new EventSource("/events");
events.onmessage = (event) => {
  clock.textContent = event.data;
};

fetch("/api/greeting")
  .then((response) => response.json())
  .then((body) => {
    document.getElementById("greeting").textContent = body.greeting;
  });
