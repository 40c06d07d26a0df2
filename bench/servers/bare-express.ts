// Bare Express 5: the ceiling for Express contenders.
import http from 'node:http'
import express from 'express'
import { serve } from '../lib/serve.ts'
import { BARE_BODY, MESSAGE } from '../lib/settings.ts'

const app = express()
app.get('/bare', (_req, res) => {
  res.end(BARE_BODY)
})
app.get('/put', (_req, res) => {
  res.end()
})
app.get('/get', (_req, res) => {
  res.end(MESSAGE)
})
serve(http.createServer(app))
