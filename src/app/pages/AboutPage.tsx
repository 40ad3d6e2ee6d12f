/**
 * What a person should know before leaving this tab open: what it does with the machine, what it shares and
 * with whom, how to stop. Plain statements of what the code does (src/core/protocol/capabilities.ts is what a
 * tab announces; the README has the details), no promises it does not keep.
 */
export function AboutPage() {
  return (
    <div className="prose" data-testid="about-page">
      <section className="card">
        <h2>What this tab does with your machine</h2>
        <p>
          While this page is open, it is a volunteer in the Open-Swarm network. It computes work units that
          other people submit: sparse linear systems (in a Web Worker, with WebAssembly or WebGPU kernels) and
          small image-classification models (the &ldquo;experts&rdquo;, with onnxruntime-web in another
          worker). The page itself stays responsive: the computing happens in workers, between units the tab
          rests for as long as the CPU-share slider on <a href="#/">Contribute</a> says.
        </p>
        <p>
          It keeps, in this browser&rsquo;s storage (IndexedDB): its identity key (an Ed25519 key pair that
          never leaves the browser), the jobs you submitted and their inputs and results, and the models it
          hosts. Clear the site&rsquo;s data in the browser to remove all of it.
        </p>
      </section>
      <section className="card">
        <h2>What is shared, and with whom</h2>
        <ul>
          <li>
            <strong>With the server</strong> (the one that served this page): this tab&rsquo;s peer id and
            public key, its capabilities (WebGPU adapter limits, WebAssembly SIMD and threads, number of
            cores, whether the page is cross-origin isolated) and the result of a short benchmark. The server
            sees your IP address, as any web server does. It introduces peers to each other and relays their
            connection set-up; it does not see the work.
          </li>
          <li>
            <strong>With other peers</strong>: the same peer id, capabilities and benchmark, and, because
            peers connect directly over WebRTC, your IP address (a relay server, when configured, can hide
            it). A peer that sends you work sees the results you compute for it and how long they took.
          </li>
          <li>
            <strong>When you submit a job</strong>: the matrix and right-hand sides (or the images and the
            model) go to the volunteers that compute it. Do not submit data you may not share.
          </li>
        </ul>
        <p>
          Every result is checked by the tab that asked for it (a solve by recomputing its residual, a model
          by hidden test rows and by asking a second volunteer), so a volunteer that lies is found out and
          gets no more work.
        </p>
      </section>
      <section className="card">
        <h2>How to stop</h2>
        <p>
          Press <strong>Pause</strong> on <a href="#/">Contribute</a> (within a second the unit in progress is
          cancelled and goes to another volunteer), move the CPU-share slider down, tick &ldquo;pause while
          this tab is hidden&rdquo;, or simply close the tab: nothing keeps running once it is closed, and
          work you had not finished goes to another volunteer.
        </p>
      </section>
      <section className="card">
        <h2>More</h2>
        <p>
          The project&rsquo;s <code>README.md</code> explains how to run your own server, submit jobs from the
          command line, and what the benchmarks measure; <code>docs/ARCHITECTURE.md</code> in the repository
          explains how it is built.
        </p>
      </section>
    </div>
  );
}
