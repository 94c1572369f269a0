//! The intraday board at `GET /`: one page, its stylesheet and script, compiled into the
//! binary (`include_str!`), so it works with no network beyond the daemon.

use axum::response::{Html, IntoResponse, Response};

/// `GET /`.
pub(super) async fn index() -> Html<&'static str> {
    Html(include_str!("board/index.html"))
}

/// `GET /board.css`.
pub(super) async fn css() -> Response {
    (
        [("content-type", "text/css; charset=utf-8")],
        include_str!("board/board.css"),
    )
        .into_response()
}

/// `GET /board.js`.
pub(super) async fn js() -> Response {
    (
        [("content-type", "text/javascript; charset=utf-8")],
        include_str!("board/board.js"),
    )
        .into_response()
}
