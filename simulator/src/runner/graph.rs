//! Hop counts in the connection graph, for the propagation lower bound.

use std::collections::VecDeque;

/// The largest hop count from `from` to any node reachable from it over `links` (undirected
/// pairs), counting only nodes for which `include` holds; `None` if `from` is not included.
pub fn eccentricity(
    nodes: usize,
    links: &[(usize, usize)],
    from: usize,
    include: impl Fn(usize) -> bool,
) -> Option<u32> {
    if from >= nodes || !include(from) {
        return None;
    }
    let mut adjacent = vec![Vec::new(); nodes];
    for &(a, b) in links {
        if a < nodes && b < nodes && include(a) && include(b) {
            adjacent[a].push(b);
            adjacent[b].push(a);
        }
    }
    let mut hops = vec![u32::MAX; nodes];
    hops[from] = 0;
    let mut queue = VecDeque::from([from]);
    let mut furthest = 0;
    while let Some(node) = queue.pop_front() {
        furthest = furthest.max(hops[node]);
        for &next in &adjacent[node] {
            if hops[next] == u32::MAX {
                hops[next] = hops[node] + 1;
                queue.push_back(next);
            }
        }
    }
    Some(furthest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_its_length_as_eccentricity_from_an_end() {
        let links = [(0, 1), (1, 2), (2, 3)];
        assert_eq!(eccentricity(4, &links, 0, |_| true), Some(3));
        assert_eq!(eccentricity(4, &links, 1, |_| true), Some(2));
    }

    #[test]
    fn excluded_nodes_neither_count_nor_relay() {
        let links = [(0, 1), (1, 2), (0, 3), (3, 2)];
        assert_eq!(eccentricity(4, &links, 0, |_| true), Some(2));
        // Without node 1 the only path to 2 is through 3: still 2 hops.
        assert_eq!(eccentricity(4, &links, 0, |n| n != 1), Some(2));
        // Without 1 and 3, node 2 is unreachable and does not count.
        assert_eq!(eccentricity(4, &links, 0, |n| n == 0 || n == 2), Some(0));
        assert_eq!(eccentricity(4, &links, 1, |n| n != 1), None);
    }
}
