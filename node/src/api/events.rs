//! `GET /v1/events`: server-sent events for new tips and items.
//!
//! Each subscriber reads the node's bounded broadcast. A subscriber that falls more than
//! [`crate::handle::EVENT_CAPACITY`] events behind gets a `lagged` event telling how many it
//! missed, then continues with the newest: nothing buffers without bound.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::ApiState;
use crate::handle::NodeEvent;

/// How often an idle stream sends a keep-alive comment.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(crate) fn to_event(item: Result<NodeEvent, BroadcastStreamRecvError>) -> Event {
    match item {
        Ok(ev) => {
            let name = match &ev {
                NodeEvent::NewTip { .. } => "new_tip",
                NodeEvent::BlockImported { .. } => "block_imported",
                NodeEvent::NewItem { .. } => "new_item",
            };
            let data = serde_json::to_string(&ev).unwrap_or_else(|_| "{}".to_owned());
            Event::default().event(name).data(data)
        }
        Err(BroadcastStreamRecvError::Lagged(missed)) => Event::default()
            .event("lagged")
            .data(serde_json::json!({ "type": "lagged", "missed": missed }).to_string()),
    }
}

/// The handler.
pub(crate) async fn events(
    State(s): State<ApiState>,
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
        .chain(BroadcastStream::new(s.handle.subscribe()).map(|item| Ok(to_event(item))))
        .take_until(Box::pin(stopped));
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
