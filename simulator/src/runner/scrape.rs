//! Reading numbers back out of a node's Prometheus text exposition and the process status.

/// Sums every sample of the metric family `name` (the family name, e.g.
/// `talos_peers_banned_total`) whose label set contains `label` (`""` for any).
pub fn metric_sum(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, labels) = match series.split_once('{') {
                Some((metric, labels)) => (metric, labels),
                None => (series, ""),
            };
            (metric == name && labels.contains(label)).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// Sums every sample whose family name ends with `suffix` (libp2p's metrics are prefixed by
/// the sub-registries they live in).
pub fn metric_sum_suffix(text: &str, suffix: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let metric = series.split_once('{').map_or(series, |(m, _)| m);
            metric
                .ends_with(suffix)
                .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// The resident set size in `/proc/self/status` text (`VmRSS: 1234 kB`), in bytes.
pub(crate) fn parse_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// This process's resident set size (0 where `/proc` is not available).
pub fn process_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| parse_rss(&s))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# HELP talos_peers_banned_total Peers banned.
# TYPE talos_peers_banned_total counter
talos_peers_banned_total{code=\"invalid_gossip\"} 2
talos_peers_banned_total{code=\"bad_request\"} 1
talos_blocks_imported_total{code=\"gossip\"} 40
talos_blocks_imported_total{code=\"sync\"} 3
libp2p_gossipsub_topic_msg_recv_counts_unfiltered_total{hash=\"a\"} 10
libp2p_gossipsub_topic_msg_recv_counts_unfiltered_total{hash=\"b\"} 5
libp2p_gossipsub_topic_msg_recv_counts_total{hash=\"a\"} 7
talos_reorgs_total 4
";

    #[test]
    fn sums_by_family_and_label() {
        assert_eq!(metric_sum(TEXT, "talos_peers_banned_total", ""), 3.0);
        assert_eq!(
            metric_sum(TEXT, "talos_blocks_imported_total", "\"sync\""),
            3.0
        );
        assert_eq!(metric_sum(TEXT, "talos_reorgs_total", ""), 4.0);
        assert_eq!(metric_sum(TEXT, "missing_total", ""), 0.0);
    }

    #[test]
    fn suffixes_do_not_match_longer_names() {
        assert_eq!(
            metric_sum_suffix(TEXT, "topic_msg_recv_counts_unfiltered_total"),
            15.0
        );
        assert_eq!(metric_sum_suffix(TEXT, "topic_msg_recv_counts_total"), 7.0);
    }

    #[test]
    fn rss_is_read_in_bytes() {
        assert_eq!(parse_rss("Name: x\nVmRSS:\t  2048 kB\n"), Some(2 << 20));
        assert_eq!(parse_rss("Name: x\n"), None);
        assert!(process_rss() > 0, "this test runs on Linux");
    }
}
