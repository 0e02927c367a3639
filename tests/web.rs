//! Reading the public website as a browser without JavaScript would: a client that does not
//! follow redirects (so a test sees each `Location` and `Set-Cookie`), and a page's status,
//! headers and text.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// A client that leaves redirects to the test.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// Every value of header `name`, one a line.
    pub fn header(&self, name: &str) -> String {
        self.headers.get_all(name).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>().join("\n")
    }

    /// The text between `start` and the next `end` after it.
    pub fn between(&self, start: &str, end: &str) -> String {
        let from = self.body.find(start).unwrap_or_else(|| panic!("{start:?} not in {}", self.body)) + start.len();
        let to = self.body[from..].find(end).unwrap() + from;
        self.body[from..to].to_string()
    }

    pub fn title(&self) -> String {
        self.between("<title>", "</title>")
    }

    pub fn input(&self, name: &str) -> String {
        self.between(&format!("name=\"{name}\" value=\""), "\"")
    }
}

pub async fn send(r: reqwest::RequestBuilder) -> Page {
    let r = r.send().await.unwrap();
    Page { status: r.status(), headers: r.headers().clone(), body: r.text().await.unwrap() }
}
