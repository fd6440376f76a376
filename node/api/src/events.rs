//! `GET /v1/events`: server-sent events for new tips, imported blocks and new items.
//!
//! Each subscriber has its own bounded buffer in the node. A subscriber that falls behind gets
//! a `lagged` event telling how many it missed, then continues with the newest: nothing
//! buffers without bound.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};

use crate::ApiState;
use crate::backend::{EventOrLag, NodeApi};
use crate::types::EventJson;

/// How often an idle stream sends a keep-alive comment.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(crate) fn to_event(item: EventOrLag) -> Event {
    let json = item.unwrap_or_else(|missed| EventJson::Lagged { missed });
    let data = serde_json::to_string(&json).unwrap_or_else(|_| "{}".to_owned());
    Event::default().event(json.name()).data(data)
}

/// The handler.
pub(crate) async fn events<N: NodeApi>(
    State(s): State<ApiState<N>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut stop = s.stop.clone();
    let stopped = async move {
        // Ends when shutdown is signalled or the server state is dropped.
        let _ = stop.wait_for(|v| *v).await;
    };
    // Subscribed before the response starts, so a client that has the headers misses nothing
    // sent afterwards. The opening comment makes the headers go out at once.
    let hello = futures::stream::once(async { Ok(Event::default().comment("talos events")) });
    let stream = hello
        .chain(s.node.events().map(|item| Ok(to_event(item))))
        .take_until(Box::pin(stopped));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_their_name_and_json() {
        let json = EventJson::NewTip {
            id: "ab".into(),
            height: 3,
            reorg_depth: 1,
        };
        assert_eq!(json.name(), "new_tip");
        let data = serde_json::to_string(&json).unwrap();
        assert_eq!(
            serde_json::from_str::<EventJson>(&data).unwrap(),
            json,
            "clients parse what the server sends"
        );
        // A lag becomes a `lagged` event with the count.
        let lagged = serde_json::to_string(&EventJson::Lagged { missed: 7 }).unwrap();
        assert_eq!(lagged, r#"{"type":"lagged","missed":7}"#);
    }
}
