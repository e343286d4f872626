//! The order in which the clause solver decides variables: most active first, where a
//! variable's activity grows each time it takes part in a conflict (recent conflicts
//! weigh more), kept in a binary max-heap that knows each variable's place.

pub struct Order {
    activity: Vec<f64>,
    inc: f64,
    heap: Vec<u32>,
    /// Place in `heap`, or `u32::MAX` when out of it.
    pos: Vec<u32>,
}

impl Default for Order {
    fn default() -> Order {
        Order {
            activity: Vec::new(),
            inc: 1.0,
            heap: Vec::new(),
            pos: Vec::new(),
        }
    }
}

impl Order {
    pub fn add(&mut self, v: u32) {
        self.activity.push(0.0);
        self.pos.push(u32::MAX);
        self.restore(v);
    }

    /// Puts an unassigned variable back in the heap, if it is not there.
    pub fn restore(&mut self, v: u32) {
        if self.pos[v as usize] == u32::MAX {
            self.pos[v as usize] = self.heap.len() as u32;
            self.heap.push(v);
            self.sift_up(self.heap.len() - 1);
        }
    }

    /// A starting activity, for variables worth deciding before any conflict.
    pub fn raise(&mut self, v: usize, weight: f64) {
        self.activity[v] = self.activity[v].max(weight);
        self.resift(v);
    }

    pub fn bump(&mut self, v: usize) {
        self.activity[v] += self.inc;
        if self.activity[v] > 1e100 {
            for a in &mut self.activity {
                *a *= 1e-100;
            }
            self.inc *= 1e-100;
        }
        self.resift(v);
    }

    /// Ages every activity at once, by making later bumps larger.
    pub fn decay(&mut self) {
        self.inc *= 1.0 / 0.95;
    }

    pub fn pop(&mut self) -> Option<u32> {
        let top = *self.heap.first()?;
        let last = self.heap.pop().unwrap();
        self.pos[top as usize] = u32::MAX;
        if !self.heap.is_empty() {
            self.heap[0] = last;
            self.pos[last as usize] = 0;
            self.sift_down(0);
        }
        Some(top)
    }

    fn resift(&mut self, v: usize) {
        let p = self.pos[v];
        if p != u32::MAX {
            self.sift_up(p as usize);
        }
    }

    fn higher(&self, a: u32, b: u32) -> bool {
        self.activity[a as usize] > self.activity[b as usize]
    }

    fn sift_up(&mut self, mut i: usize) {
        let v = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            let pv = self.heap[parent];
            if !self.higher(v, pv) {
                break;
            }
            self.heap[i] = pv;
            self.pos[pv as usize] = i as u32;
            i = parent;
        }
        self.heap[i] = v;
        self.pos[v as usize] = i as u32;
    }

    fn sift_down(&mut self, mut i: usize) {
        let v = self.heap[i];
        let n = self.heap.len();
        loop {
            let mut child = 2 * i + 1;
            if child >= n {
                break;
            }
            if child + 1 < n && self.higher(self.heap[child + 1], self.heap[child]) {
                child += 1;
            }
            let cv = self.heap[child];
            if !self.higher(cv, v) {
                break;
            }
            self.heap[i] = cv;
            self.pos[cv as usize] = i as u32;
            i = child;
        }
        self.heap[i] = v;
        self.pos[v as usize] = i as u32;
    }
}
