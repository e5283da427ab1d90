//! Holds idle keep-alive connections open, for the memory measurement:
//! `idle_conns ADDR COUNT SECONDS`.
//!
//! Opens COUNT connections to ADDR, makes one `GET /` on each and reads the whole answer
//! (so every connection has been through a request, as a browser's would), prints `ready`,
//! keeps them all open and idle for SECONDS, then exits.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn one_request(stream: &TcpStream) -> std::io::Result<()> {
    (&*stream).write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
    let mut reader = BufReader::new(stream);
    let mut length = None;
    let mut chunked = false;
    loop {
        let line = read_line(&mut reader)?;
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
        if line.is_empty() {
            break;
        }
    }
    if chunked {
        loop {
            let size = read_line(&mut reader)?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
            if size == 0 {
                while !read_line(&mut reader)?.is_empty() {} // trailers
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
        }
    } else {
        let length =
            length.ok_or_else(|| std::io::Error::other("neither content-length nor chunked"))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
    }
    // The answer has been read whole, so the reader holds nothing of a next one.
    Ok(())
}

/// One line without its CRLF.
fn read_line(reader: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, count, seconds] = &args[..] else {
        eprintln!("usage: idle_conns ADDR COUNT SECONDS");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("COUNT is a number");
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    let mut open = Vec::with_capacity(count);
    for _ in 0..count {
        let stream = TcpStream::connect(addr)?;
        one_request(&stream)?;
        open.push(stream);
    }
    println!("ready {}", open.len());
    std::io::stdout().flush()?;
    std::thread::sleep(Duration::from_secs(seconds));
    Ok(())
}
