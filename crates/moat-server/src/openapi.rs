//! The OpenAPI 3.1 document served at `/openapi.json` (`openapi.json` beside this file).

pub const DOCUMENT: &str = include_str!("openapi.json");
