import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import type { ImageService } from '../domain/image-service.js';
import type { ImageRecord } from '../domain/image.js';
import { BadRequestError, InvalidQueryError } from '../domain/errors.js';
import { answerOtherMethods } from './allowed-methods.js';
import { messages } from '../domain/messages.js';
import { describeError } from './error-handler.js';
import { absoluteUrl, wantsHtml } from './negotiation.js';
import { createUploadGate, holdUploadSlot, type UploadGateOptions } from './upload-gate.js';
import { UploadBufferPool } from './upload-buffers.js';
import { createUploadParser } from './upload-parser.js';

export interface ImageRoutesOptions {
  images: ImageService;
  maxUploadBytes: number;
  uploadGate: UploadGateOptions;
  publicBaseUrl?: string;
}

const LATEST_ON_HOME = 12;

/**
 * The delete token reaches the image page once through a short-lived cookie scoped to that
 * page, so it is shown after the 303 redirect (JavaScript or not) and never again.
 */
const deleteTokenCookie = (id: string) => `snapstore_delete_${id.replace(/-/g, '')}`;
const DELETE_TOKEN_COOKIE_MS = 10 * 60_000;

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined; // not one we set
    }
  }
  return undefined;
}

/** The token of `Authorization: Bearer <token>` (RFC 6750); undefined when no header was sent. */
function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  const token = /^Bearer +([\w.~+/-]+=*) *$/i.exec(header)?.[1];
  if (!token) throw new BadRequestError(messages.malformedAuthorization);
  return token;
}

function formDeleteToken(req: Request): string | undefined {
  const token: unknown = req.body?.deleteToken;
  if (Array.isArray(token)) throw new BadRequestError(messages.deleteTokenRepeated);
  return typeof token === 'string' ? token.trim() : undefined;
}

export function createImageRoutes({ images, maxUploadBytes, uploadGate, publicBaseUrl }: ImageRoutesOptions): Router {
  const router = Router();
  const toJson = (req: Request, image: ImageRecord) => ({
    id: image.id,
    name: image.name,
    url: absoluteUrl(req, image.url, publicBaseUrl),
    key: image.key,
    size: image.size,
    contentType: image.contentType,
    width: image.width,
    height: image.height,
    sha256: image.sha256,
    createdAt: image.createdAt.toISOString(),
    thumbnailUrl: image.thumbnailUrl && absoluteUrl(req, image.thumbnailUrl, publicBaseUrl),
  });
  const view = (req: Request, image: ImageRecord) => {
    const json = toJson(req, image);
    return { ...json, thumbnailUrl: json.thumbnailUrl ?? json.url, createdAt: image.createdAt };
  };

  const uploadForm: RequestHandler = async (req, res) => {
    const { items } = await images.list({ limit: LATEST_ON_HOME });
    res.render('index', { title: 'Upload an image', latest: items.map((i) => view(req, i)), name: '', error: null });
  };

  // One byte over the limit: multer reads that far to know a file is too large.
  const uploadBuffers = new UploadBufferPool(maxUploadBytes + 1, uploadGate.slots);
  const createImage: RequestHandler = async (req, res) => {
    const file = req.file && { bytes: req.file.buffer, originalName: req.file.originalname };
    const releaseSlot = holdUploadSlot(res);
    let uploaded;
    try {
      uploaded = await images.upload({ name: req.body?.name, file });
    } finally {
      // upload() has settled every step that reads the bytes, failed or not.
      if (req.file) uploadBuffers.release(req.file.buffer);
      releaseSlot();
    }
    const { image, deleteToken } = uploaded;
    const location = `/images/${image.id}`;
    res.cookie(deleteTokenCookie(image.id), deleteToken, {
      path: location,
      maxAge: DELETE_TOKEN_COOKIE_MS,
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
    });
    if (wantsHtml(req)) {
      res.redirect(303, location);
      return;
    }
    res
      .status(201)
      .location(location)
      .json({ ...toJson(req, image), deleteToken });
  };

  // A browser that posted the form gets the form back, with the message and its name kept.
  const showFormWithError: ErrorRequestHandler = async (error, req, res, next) => {
    if (!wantsHtml(req) || res.headersSent) {
      next(error);
      return;
    }
    const body = describeError(error);
    if (body.status >= 500) req.log.error({ err: error }, 'upload failed');
    const latest = await images.list({ limit: LATEST_ON_HOME }).then(
      (page) => page.items.map((i) => view(req, i)),
      () => [],
    );
    const name = typeof req.body?.name === 'string' ? req.body.name : '';
    res.status(body.status).render('index', { title: 'Upload an image', latest, name, error: body });
  };

  const listImages: RequestHandler = async (req, res) => {
    const limit = parseLimit(req.query.limit);
    const page = await images.list({
      limit,
      cursor: parseCursor(req.query.cursor),
      after: parseCursor(req.query.after),
    });
    if (!wantsHtml(req)) {
      res.json({
        items: page.items.map((i) => toJson(req, i)),
        nextCursor: page.nextCursor,
        prevCursor: page.prevCursor,
      });
      return;
    }
    const pageLink = (key: 'cursor' | 'after', id: string | null) =>
      id && `/images?${new URLSearchParams({ ...(limit !== undefined && { limit: String(limit) }), [key]: id })}`;
    res.render('gallery', {
      title: 'Gallery',
      items: page.items.map((i) => view(req, i)),
      nextCursor: page.nextCursor,
      olderHref: pageLink('cursor', page.nextCursor),
      newerHref: pageLink('after', page.prevCursor),
      isFirstPage: req.query.cursor === undefined && req.query.after === undefined,
      deleted: req.query.deleted === '1',
    });
  };

  const showImage: RequestHandler = async (req, res) => {
    const image = await images.get(String(req.params.id));
    if (!wantsHtml(req)) {
      res.json(toJson(req, image));
      return;
    }
    const cookie = deleteTokenCookie(image.id);
    const deleteToken = readCookie(req, cookie);
    if (deleteToken) res.clearCookie(cookie, { path: `/images/${image.id}` });
    res.set('Cache-Control', 'no-store');
    res.render('image', { title: `Image by ${image.name}`, image: view(req, image), deleteToken: deleteToken ?? null });
  };

  const deleteImage: RequestHandler = async (req, res) => {
    await images.delete(String(req.params.id), bearerToken(req));
    res.status(204).end();
  };

  // HTML forms cannot send DELETE: the image page posts the token here instead.
  const deleteImageFromForm: RequestHandler = async (req, res) => {
    await images.delete(String(req.params.id), formDeleteToken(req));
    if (wantsHtml(req)) res.redirect(303, '/images?deleted=1');
    else res.status(204).end();
  };

  router.get('/', uploadForm);
  router.post(
    '/images',
    createUploadGate(uploadGate),
    createUploadParser(maxUploadBytes, uploadBuffers),
    createImage,
    showFormWithError,
  );
  router.get('/images', listImages);
  router.get('/images/:id', showImage);
  router.delete('/images/:id', deleteImage);
  router.post('/images/:id/delete', express.urlencoded({ extended: false, limit: '4kb' }), deleteImageFromForm);
  // Last, so that only the methods no route above took get 405.
  answerOtherMethods(router, [
    ['/', ['GET']],
    ['/images', ['GET', 'POST']],
    ['/images/:id', ['GET', 'DELETE']],
    ['/images/:id/delete', ['POST']],
  ]);
  return router;
}

function parseLimit(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value)) throw new InvalidQueryError(messages.badLimit);
  return Number(value);
}

function parseCursor(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidQueryError(messages.badCursor);
  return value;
}
