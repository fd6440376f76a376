//! DID records for the node ([`crate::NetCommand::PublishDid`], [`crate::NetCommand::ResolveDid`]):
//! starting the Kademlia queries and turning their progress into one answer each.

use std::time::Instant;

use libp2p::PeerId;
use libp2p::kad::{self, GetRecordOk, PeerRecord, QueryId, Quorum, Record, RecordKey};
use talos_identity::{record_key, validate_record};
use tokio::sync::oneshot;
use tracing::debug;

use super::NetLoop;
use crate::did::{
    DidQueryError, PendingDid, PublishResult, Published, ResolveResult, Resolving, better,
};
use crate::light::view::unix_ms;
use crate::policy::Offence;
use crate::records::{self, Admission, RecordError, RecordKind};

impl NetLoop {
    /// Judges `bytes` as `did`'s record, stores it here and puts it to the closest peers.
    /// The record is validated once, under the key `did` names, when it is judged for the
    /// local store.
    pub(super) fn publish_did(
        &mut self,
        did: &str,
        bytes: Vec<u8>,
        reply: oneshot::Sender<PublishResult>,
    ) {
        if !self.dids.has_room() {
            let _ = reply.send(Err(DidQueryError::TooManyInFlight));
            return;
        }
        let now_ms = unix_ms();
        let key = record_key(did);
        let record = match self.store_record(Record::new(RecordKey::new(&key), bytes), now_ms) {
            Ok(record) => record,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        match self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(record, Quorum::All)
        {
            Ok(id) => self.dids.insert(id, PendingDid::Publish(reply)),
            Err(e) => {
                let _ = reply.send(Err(DidQueryError::Store(e.to_string())));
            }
        }
    }

    /// Judges and admits `record` into this node's store; the record to put to others.
    fn store_record(&mut self, record: Record, now_ms: u64) -> Result<Record, DidQueryError> {
        use kad::store::RecordStore;
        let RecordKind::Did(valid) =
            records::judge(&record, now_ms).map_err(DidQueryError::Refused)?;
        let store = self.swarm.behaviour_mut().kad.store_mut();
        let stored = store.get(&record.key).map(std::borrow::Cow::into_owned);
        match records::admit(stored.as_ref(), &valid, now_ms, Instant::now())
            .map_err(DidQueryError::Refused)?
        {
            Admission::Store(admitted) => {
                store
                    .put(admitted.clone())
                    .map_err(|e| DidQueryError::Store(e.to_string()))?;
                Ok(admitted)
            }
            Admission::Unchanged => Ok(record),
        }
    }

    /// Starts looking for `did`'s record: this node's copy, then the DHT's.
    pub(super) fn resolve_did(&mut self, did: &str, reply: oneshot::Sender<ResolveResult>) {
        if let Err(e) = talos_identity::parse_did_key(did) {
            let _ = reply.send(Err(DidQueryError::BadDid(e)));
            return;
        }
        if !self.dids.has_room() {
            let _ = reply.send(Err(DidQueryError::TooManyInFlight));
            return;
        }
        let key = record_key(did);
        let local = {
            use kad::store::RecordStore;
            let store = self.swarm.behaviour_mut().kad.store_mut();
            store
                .get(&RecordKey::new(&key))
                .and_then(|r| validate_record(&key, &r.value, unix_ms()).ok())
        };
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_record(RecordKey::new(&key));
        let resolving = Resolving {
            key,
            best: local,
            reply,
        };
        self.dids
            .insert(id, PendingDid::Resolve(Box::new(resolving)));
    }

    /// A Kademlia query's progress: for a DID query, fold it in and answer once it is over
    /// (other queries need nothing from here).
    pub(super) fn on_did_progress(&mut self, id: QueryId, result: kad::QueryResult, last: bool) {
        match result {
            kad::QueryResult::PutRecord(outcome) => {
                let Some(PendingDid::Publish(reply)) = self.dids.take(&id) else {
                    return;
                };
                // `Quorum::All`: success is every one of the closest peers it went to.
                let peers = match &outcome {
                    Ok(_) => crate::behaviour::DHT_REPLICATION,
                    Err(kad::PutRecordError::QuorumFailed { success, .. }) => success.len(),
                    Err(_) => 0,
                };
                debug!(peers, "DID record published");
                let _ = reply.send(Ok(Published { peers }));
            }
            kad::QueryResult::GetRecord(outcome) => {
                if let Ok(GetRecordOk::FoundRecord(found)) = outcome {
                    self.found_did_record(id, found);
                }
                if last {
                    self.finish_resolve(id);
                }
            }
            _ => {}
        }
    }

    /// A record a peer served for a resolution in flight: kept if valid and better.
    fn found_did_record(&mut self, id: QueryId, found: PeerRecord) {
        let Some(PendingDid::Resolve(resolving)) = self.dids.get_mut(&id) else {
            return;
        };
        match validate_record(&resolving.key, &found.record.value, unix_ms()) {
            Ok(valid) => {
                resolving.best = Some(better(resolving.best.take(), valid));
                // One valid record from the DHT answers: waiting for every closest peer
                // would wait for the slowest (an offline one only fails at its dial
                // timeout). The record is the best of it and this node's own copy.
                if let Some(mut query) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                    query.finish();
                }
            }
            Err(e) => {
                let error = RecordError::Did(e);
                if let Some(peer) = found.peer {
                    debug!(%peer, error = %error, "peer served a bad DID record");
                    self.penalize_record(peer, error);
                }
            }
        }
    }

    fn penalize_record(&mut self, peer: PeerId, error: RecordError) {
        self.penalize(peer, Offence::UnwantedRecord(error));
    }

    fn finish_resolve(&mut self, id: QueryId) {
        if let Some(PendingDid::Resolve(resolving)) = self.dids.take(&id) {
            let Resolving { best, reply, .. } = *resolving;
            let _ = reply.send(best.ok_or(DidQueryError::NotFound));
        }
    }
}
