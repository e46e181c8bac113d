// Package report writes the reports of a conformance run, for three readers:
//
//   - WriteJSON: the whole Run, for tools and for writing the other two
//     again later (ReadJSON reads it back).
//   - WriteJUnit: JUnit XML, the format CI systems (GitHub Actions, GitLab,
//     Jenkins) show as test results, one test case per scenario.
//   - WriteHTML: one self-contained page for a person: a summary, and per
//     scenario a timeline picture of every connection attempt with each
//     judged reconnect drawn inside its window, so a failed wait is seen at
//     a glance rather than read out of a transcript.
//
// Every writer takes the same Run and writes only what it is given: a
// report never reruns or rejudges anything.
package report
