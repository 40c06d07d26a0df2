import {
  capabilitiesOf,
  type PartialCapability,
  type Store,
  type StoreCapability,
  storeCapabilities,
} from '../store.js'
import type {
  ConformanceOptions,
  StoreDeclaration,
  StoreHarness,
  TestBody,
  TestRunner,
} from './runner.js'

const calls = (methods: readonly string[]): string => methods.map((m) => `${m}()`).join(', ')

/** What a half-implemented group has and lacks, as a sentence ending a store's name. */
export function describePartial(p: PartialCapability): string {
  return `has ${calls(p.present)} but no ${calls(p.missing)}`
}

/**
 * @internal One registration of the suite: the runner, the groups the store declares, and the
 * harness, made at the first check that runs (registration happens before any of them), reset at
 * the start of each. A check names the groups it needs; one the store lacks is registered with
 * `it.skip` under a title that says what is missing, so it is never reported as passed.
 */
export class Suite<S extends Store> {
  readonly name: string
  readonly options: ConformanceOptions<S>
  /** A store, or a class's prototype, whose methods declare the groups. */
  readonly declared: Store
  readonly #runner: TestRunner
  readonly #has: ReadonlySet<StoreCapability>
  readonly #partial: PartialCapability[]
  readonly #make: () => Promise<StoreHarness<S>> | StoreHarness<S>
  #harness: Promise<StoreHarness<S>> | undefined

  constructor(
    runner: TestRunner,
    name: string,
    declared: StoreDeclaration<S>,
    make: () => Promise<StoreHarness<S>> | StoreHarness<S>,
    options: ConformanceOptions<S>,
  ) {
    this.#runner = runner
    this.name = name
    this.options = options
    this.declared = typeof declared === 'function' ? (declared.prototype as Store) : declared
    const { has, partial } = capabilitiesOf(this.declared)
    this.#has = has
    this.#partial = partial
    this.#make = make
  }

  /** The groups the store declares whole. */
  get groups(): ReadonlySet<StoreCapability> {
    return this.#has
  }

  /** The harness, made once, after its `reset`. */
  async ready(): Promise<StoreHarness<S>> {
    this.#harness ??= Promise.resolve().then(() => this.#make())
    const harness = await this.#harness
    await harness.reset()
    return harness
  }

  /** Closes the harness if a check made one. */
  async close(): Promise<void> {
    if (this.#harness === undefined) return
    const harness = await this.#harness.catch(() => undefined)
    await harness?.close?.()
  }

  /** Registers a check every store must pass. */
  check(title: string, body: (h: StoreHarness<S>) => Promise<void>): void {
    this.#runner.it(title, async () => body(await this.ready()))
  }

  /**
   * Registers a check that needs `groups`, titled after them; registered as skipped, saying what
   * the store lacks, when it does not declare one of them whole.
   */
  group(
    groups: readonly StoreCapability[],
    title: string,
    body: (h: StoreHarness<S>) => Promise<void>,
  ): void {
    const named = `${groups.join(' + ')}: ${title}`
    const missing = this.#missing(groups)
    if (missing === undefined) this.check(named, body)
    else this.skip(named, `${this.name} ${missing}`)
  }

  /** Registers a check the runner reports as skipped, with `reason` in its title. */
  skip(title: string, reason: string): void {
    const body: TestBody = async () => {}
    this.#runner.it.skip(`${title} (skipped: ${reason})`, body)
  }

  #missing(groups: readonly StoreCapability[]): string | undefined {
    const absent: string[] = []
    const parts: string[] = []
    for (const group of groups) {
      if (this.#has.has(group)) continue
      const partial = this.#partial.find((p) => p.capability === group)
      if (partial === undefined) absent.push(...storeCapabilities[group])
      else parts.push(describePartial(partial))
    }
    if (absent.length > 0) parts.unshift(`has no ${calls(absent)}`)
    return parts.length === 0 ? undefined : parts.join('; ')
  }
}
